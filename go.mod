module github.com/radbridge/radbridge

go 1.26

toolchain go1.26.8

require (
	github.com/google/go-cmp v0.7.0
	go.etcd.io/bbolt v1.4.3
)

require golang.org/x/sys v0.29.0 // indirect
