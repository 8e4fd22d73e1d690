/* version.h - the release version, shown by --version and in logs. */
#ifndef IOTCORED_VERSION_H
#define IOTCORED_VERSION_H
#define IC_VERSION "0.1.0"
#endif
