package testcity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vendorJS are the front-end libraries `make assets` copies from npm into
// internal/web/static/vendor (git-ignored; web/copy-assets.mjs lists them),
// which the binary embeds.
var vendorJS = []string{"htmx.min.js", "echarts.min.js", "jsQR.js"}

// Assets skips the test when the front-end libraries are missing from the
// checkout (no `make assets`), as the browser tests skip without Chromium.
// Under CI (CI set) it fails instead: CI must run every test.
func Assets(t testing.TB) {
	t.Helper()
	missing, err := missingAssets()
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) == 0 {
		return
	}
	msg := "front-end assets missing from internal/web/static/vendor (" + strings.Join(missing, ", ") + "): run make assets"
	if os.Getenv("CI") != "" {
		t.Fatal("CI must build the assets: " + msg)
	}
	t.Skip(msg + "; test skipped")
}

// missingAssets returns the vendor files absent from the module's tree.
func missingAssets() ([]string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			return nil, os.ErrNotExist
		}
		dir = up
	}
	var missing []string
	for _, name := range vendorJS {
		if _, err := os.Stat(filepath.Join(dir, "internal", "web", "static", "vendor", name)); err != nil {
			missing = append(missing, name)
		}
	}
	return missing, nil
}
