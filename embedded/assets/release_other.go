//go:build !linux

package assets

func releasePayloadPages() {}
