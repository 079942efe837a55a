#!/bin/sh
# Generate the project's own Secure Boot keys (make keys):
#   PK  (platform key, RSA 4096, self-signed)
#   KEK (key exchange key, RSA 4096, self-signed cert; its enrollment is signed by PK)
#   db  (signature database key, RSA 2048, signs systemd-boot and the UKIs;
#        its enrollment is signed by KEK)
# and, for systemd-boot's automatic enrollment (secure-boot-enroll), the EFI
# signature lists (.esl) and time-based authenticated updates (.auth):
#   PK.auth signed by PK itself, KEK.auth signed by PK, db.auth signed by KEK.
# Keys go to $REMPART_KEYS (default: keys/ at the top of the repository, ignored
# by git). Existing keys are never overwritten: delete the directory by hand to
# start over (every image signed with the old keys then stops booting on machines
# that enrolled them).
set -eu
. "$(dirname "$0")/lib.sh"
need openssl cert-to-efi-sig-list sign-efi-sig-list

for k in PK KEK db; do
	if [ -e "$KEYS/$k.key" ] || [ -e "$KEYS/$k.crt" ]; then
		die "keys already exist in $KEYS (refusing to overwrite; remove the directory to start over)"
	fi
done
mkdir -p "$(dirname "$KEYS")"
TMP=$(mktemp -d "$(dirname "$KEYS")/.keys.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
chmod 700 "$TMP"

cn=${REMPART_KEYS_CN:-Rempart}
days=${REMPART_KEYS_DAYS:-3650}
# One owner GUID for every signature list entry.
cat /proc/sys/kernel/random/uuid > "$TMP/owner.guid"
guid=$(cat "$TMP/owner.guid")

mkcert() { # name bits subject
	openssl req -new -x509 -newkey "rsa:$2" -sha256 -nodes -days "$days" \
		-subj "/CN=$3/" -keyout "$TMP/$1.key" -out "$TMP/$1.crt" \
		-addext "keyUsage=digitalSignature" 2>/dev/null ||
		die "openssl failed to create $1"
	openssl x509 -in "$TMP/$1.crt" -outform DER -out "$TMP/$1.cer"
	cert-to-efi-sig-list -g "$guid" "$TMP/$1.crt" "$TMP/$1.esl" >/dev/null ||
		die "cert-to-efi-sig-list failed for $1"
}
mkcert PK 4096 "$cn Platform Key"
mkcert KEK 4096 "$cn Key Exchange Key"
mkcert db 2048 "$cn Signature Database Key"

# Authenticated variable updates (EFI_VARIABLE_AUTHENTICATION_2, current time stamp).
sign() { # var signer file
	sign-efi-sig-list -g "$guid" -k "$TMP/$2.key" -c "$TMP/$2.crt" \
		"$1" "$TMP/$3.esl" "$TMP/$3.auth" >/dev/null || die "sign-efi-sig-list failed for $3"
}
sign PK PK PK
sign KEK PK KEK
sign db KEK db
chmod 600 "$TMP"/*.key; chmod 644 "$TMP"/*.auth "$TMP"/*.esl "$TMP"/*.crt "$TMP"/*.cer

mv "$TMP" "$KEYS"
trap - EXIT
msg "keys created in $KEYS:"
ls -1 "$KEYS" >&2
