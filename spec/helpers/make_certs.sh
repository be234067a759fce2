#!/bin/sh
# Test certificates for the TLS failure specs, made fresh in DIR:
#   ca.crt/ca.key          a CA
#   other-ca.crt           another CA (signs nothing the servers use)
#   expired.crt/.key       a server certificate for 127.0.0.1 and localhost,
#                          signed by ca, valid only in 2020
#   wrong-host.crt/.key    signed by ca, valid now, for wrong.example only
#   localhost.crt/.key     signed by ca, valid now, for 127.0.0.1 and localhost
set -eu
dir=$1
cd "$dir"
q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=hardening-ca
q openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca
mkdir -p db
: > db/index
echo 01 > db/serial
cat > ca.cnf <<CNF
[ca]
default_ca = testca
[testca]
dir = .
database = db/index
serial = db/serial
new_certs_dir = db
certificate = ca.crt
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
CNF
leaf() { # name, subjectAltName, extra ca args
  name=$1 san=$2
  shift 2
  q openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$name" \
    -addext "subjectAltName=$san" -addext "basicConstraints=CA:FALSE"
  q openssl ca -batch -config ca.cnf -in "$name.csr" -out "$name.crt" -notext "$@"
}
leaf expired "IP:127.0.0.1,DNS:localhost" -startdate 20200101000000Z -enddate 20200102000000Z
leaf wrong-host "DNS:wrong.example" -days 2
leaf localhost "IP:127.0.0.1,DNS:localhost" -days 2
