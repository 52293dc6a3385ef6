package web

import (
	"bytes"
	"compress/gzip"
	"sync"
)

// minGzip is the smallest page worth compressing: below about one TCP
// segment, gzip's header and the CPU buy nothing.
const minGzip = 1400

// Pages are compressed at gzip's fastest level: HTML tables shrink to a
// fifth or less even so, and a statistics page of hundreds of kilobytes
// costs a few milliseconds rather than tens. Pages carry no secret that
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
