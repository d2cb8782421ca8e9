# What the bench scripts share (sourced: . bench/lib.sh).

# digest_speed BLOCK DIGEST: OpenSSL's speed for DIGEST (sha256, md5)
# on this machine, in blocks of BLOCK bytes; bytes a second
digest_speed() {
	openssl speed -seconds 1 -bytes "$1" -evp "$2" 2>/dev/null |
		awk -v a="$2" '$1 == a { sub(/k$/, "", $NF); print $NF * 1000 }'
}
