package web

import (
	"bytes"
	"compress/gzip"
	"sync"

	"github.com/andybalholm/brotli"
)

// minGzip is the smallest page worth compressing: below about one TCP
// segment, gzip's header and the CPU buy nothing.
const minGzip = 1400

// Pages are compressed with brotli at quality 4 for browsers that accept
// it (all current ones, over HTTPS) and otherwise at gzip's fastest
// level: HTML tables shrink to a fifth or less even so (brotli's a third
// smaller again), and a statistics page of hundreds of kilobytes costs a
// few milliseconds rather than tens. Pages carry no secret that
// a reflected input could be guessed against (BREACH): cross-site
// requests are refused by their Origin and Sec-Fetch-Site headers, not by
// a token in the page, and personal data on a page is already masked.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// gzipHTML compresses a rendered page, or answers nil if that fails.
func gzipHTML(body []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(body) / 4)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(body); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	return buf.Bytes()
}

// pageBrotli is the brotli quality of pages: at 4 it costs about what
// gzip's fastest level does (a few milliseconds for the largest pages)
// and its answers are a third smaller or better.
const pageBrotli = 4

// compressBrotli compresses body at quality q, or answers nil if that
// fails.
func compressBrotli(body []byte, q int) []byte {
	var buf bytes.Buffer
	buf.Grow(len(body) / 5)
	bw := brotli.NewWriterLevel(&buf, q)
	if _, err := bw.Write(body); err != nil {
		return nil
	}
	if err := bw.Close(); err != nil {
		return nil
	}
	return buf.Bytes()
}
