package app_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"tongxin/internal/app"
)

// serve warns at start when --base-url is missing, since webhook messages
// would carry relative links; with it, it does not.
func TestServeWarnsWithoutBaseURL(t *testing.T) {
	in := newInst(t, "sqlite")
	for _, tc := range []struct {
		extra []string
		warn  bool
	}{{nil, true}, {[]string{"--base-url", "https://tongxin.example.gov.cn"}, false}} {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		var stderr bytes.Buffer
		errc := make(chan error, 1)
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}, tc.extra...)
		go func() {
			err := app.Run(ctx, args, in.getenv, strings.NewReader(""), pw, &stderr)
			pw.Close()
			errc <- err
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil || !strings.Contains(line, "已启动") {
			cancel()
			t.Fatalf("serve %v: %q %v (%v)", tc.extra, line, err, <-errc)
		}
		go io.Copy(io.Discard, pr)
		cancel()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(stderr.String(), "no --base-url: links in webhook messages will be relative"); got != tc.warn {
			t.Errorf("serve %v: warned=%v, want %v; log:\n%s", tc.extra, got, tc.warn, stderr.String())
		}
	}
}
