package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"
)

// Uploaded personal files (ticket photos, prevention plans) are kept in
// no cache.
func TestUploadedFilesAreNotCached(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	hotline, qianjin := ts.tokenFor(t, "hotline"), ts.tokenFor(t, "qianjin")
	r := ts.do(t, "POST", "/api/v1/tickets", hotline, "application/json", strings.NewReader(`{"category":"elderly_care","area_code":"430203001001",
		"address":"大园社区 9 栋","channel":"hotline_12345","reporter_name":"孙奶奶","reporter_phone":"13807339999","description":"老人独居需要每日送餐"}`))
	if r.status != 201 {
		t.Fatalf("file ticket: %d %s", r.status, r.body)
	}
	tk := decodeTicket(t, r)
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4)))
	r = ts.do(t, "POST", "/api/v1/tickets/"+tk.Tracking+"/photos", hotline, "image/png", bytes.NewReader(img.Bytes()))
	var ph struct{ ID int64 }
	if r.status != 201 || json.Unmarshal(r.body, &ph) != nil || ph.ID == 0 {
		t.Fatalf("add photo: %d %s", r.status, r.body)
	}
	r = ts.do(t, "GET", fmt.Sprintf("/api/v1/tickets/%s/photos/%d", tk.Tracking, ph.ID), hotline, "", nil)
	if r.status != 200 || !bytes.Equal(r.body, img.Bytes()) || r.header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("photo: %d Cache-Control %q", r.status, r.header.Get("Cache-Control"))
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("subject_kind", "enterprise")
	mw.WriteField("subject", "914302001838260003")
	mw.WriteField("title", "千金药业一企一策")
	fw, _ := mw.CreateFormFile("file", "一企一策.pdf")
	fw.Write([]byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"))
	mw.Close()
	r = ts.do(t, "POST", "/api/v1/plans", qianjin, mw.FormDataContentType(), &body)
	var pl struct{ ID int64 }
	if r.status != 201 || json.Unmarshal(r.body, &pl) != nil || pl.ID == 0 {
		t.Fatalf("plan: %d %s", r.status, r.body)
	}
	r = ts.do(t, "GET", fmt.Sprintf("/api/v1/plans/%d/file", pl.ID), qianjin, "", nil)
	if r.status != 200 || !bytes.HasPrefix(r.body, []byte("%PDF")) || r.header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("plan file: %d Cache-Control %q", r.status, r.header.Get("Cache-Control"))
	}
}

// A made-up method is counted under "other" in /metrics.
func TestMetricsMethodThroughRouter(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	for _, m := range []string{"FOOBAR", "BAZ"} {
		if r := ts.do(t, m, "/api/v1/me", "", "", nil); r.status < 400 {
			t.Fatalf("%s: %d", m, r.status)
		}
	}
	r := ts.do(t, "GET", "/metrics", "", "", nil)
	if r.status != 200 || strings.Contains(string(r.body), "FOOBAR") || strings.Contains(string(r.body), "BAZ") ||
		!strings.Contains(string(r.body), `method="other"`) {
		t.Fatalf("metrics: %d %s", r.status, r.body)
	}
}
