#!/bin/sh
# gen-certs.sh DIR - a complete test PKI (ECDSA P-256), made fresh each time;
# no private key is ever committed. Files in DIR:
#   root.pem/.key           test root CA
#   inter.pem/.key          intermediate CA (signed by root)
#   ca-bundle.pem           root + intermediate: what the broker trusts (tls_ca)
#   server.pem/.key         server certificate (SAN localhost, 127.0.0.1, ::1),
#                           server-chain.pem = server + intermediate
#   device.pem/.key         device, signed by the intermediate (trusted)
#   device2.pem/.key        a second trusted device
#   expired.pem/.key        signed by the intermediate, validity in 2020
#   other.pem/.key          signed by another, untrusted CA
#   fake.pem/.key           signed by a fake CA with the root's exact subject
#   selfsigned.pem/.key     self-signed
set -eu
dir=${1:?usage: gen-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

cat > ext.cnf <<'CNF'
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
[device]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF

selfsign() { # name subject
    key "$1"
    openssl req -new -x509 -key "$1.key" -subj "$2" -days 3650 -sha256 \
        -extensions ca -config ext.cnf -out "$1.pem" 2>/dev/null ||
    openssl req -new -x509 -key "$1.key" -subj "$2" -days 3650 -sha256 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$1.pem"
}

sign() { # name subject issuer extsection [days]
    key "$1"
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
        -days "${5:-365}" -sha256 -extfile ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
}

selfsign root "/O=iotcored test/CN=iotcored test root CA"
sign inter "/O=iotcored test/CN=iotcored test intermediate CA" root ca 3650
cat root.pem inter.pem > ca-bundle.pem
sign server "/O=iotcored test/CN=localhost" inter server
cat server.pem inter.pem > server-chain.pem
sign device "/O=iotcored test/CN=device-1" inter device
sign device2 "/O=iotcored test/CN=device-2" inter device

# expired: an `openssl ca` run with explicit dates in 2020
mkdir -p ca-db
: > ca-db/index.txt
echo 1000 > ca-db/serial
cat > ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = inter.pem
private_key = inter.key
default_md = sha256
policy = any
x509_extensions = device
[any]
commonName = supplied
organizationName = optional
[device]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
key expired
openssl req -new -key expired.key -subj "/O=iotcored test/CN=device-expired" -out expired.csr
openssl ca -batch -config ca.cnf -startdate 20200101000000Z -enddate 20200201000000Z \
    -in expired.csr -out expired.pem -notext 2>/dev/null
rm -f expired.csr

selfsign otherca "/O=somebody else/CN=other CA"
sign other "/O=iotcored test/CN=device-other" otherca device
selfsign fakeroot "/O=iotcored test/CN=iotcored test root CA"
sign fake "/O=iotcored test/CN=device-fake" fakeroot device
key selfsigned
openssl req -new -x509 -key selfsigned.key -subj "/CN=device-self" -days 30 -out selfsigned.pem
rm -rf ca-db ca.cnf ext.cnf ./*.srl
chmod 0644 ./*.pem
