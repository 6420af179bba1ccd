module promisegrid.local/promisegrid

go 1.19

require github.com/fxamacker/cbor/v2 v2.4.0

require github.com/x448/float16 v0.8.4 // indirect

// Built offline from Debian's packaged sources (golang-github-fxamacker-cbor-dev
// and its dependency golang-github-x448-float16-dev): see README.md here.
replace github.com/fxamacker/cbor/v2 => /usr/share/gocode/src/github.com/fxamacker/cbor

replace github.com/x448/float16 => /usr/share/gocode/src/github.com/x448/float16
