// tests/data/content.yar: rules the content test runs over content.eml;
// each matches where tests/tools/contentref.py (the yara program) says.
rule pe_in_mail : exe windows {
  meta:
    author = "mailsift tests"
    severity = 3
    confirmed = true
  condition:
    uint16(0) == 0x5A4D
}
rule deep_file {
  strings: $a = "deep inside two archives"
  condition: $a
}
rule archive_password {
  strings: $p = "password is" nocase
  condition: $p
}
rule secret_payload {
  strings: $s = "the secret payload"
  condition: $s
}
