package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The delivery worker: claim due deliveries, post each outside any
// transaction, record the attempt, retry with backoff.

// Worker sizes.
const (
	deliverBatch    = 20 // deliveries claimed per transaction
	deliverParallel = 4  // posts in flight at once
	maxAnswer       = 64 << 10
)

// Headers of every delivery.
const (
	HeaderEvent     = "X-Tongxin-Event"
	HeaderDelivery  = "X-Tongxin-Delivery"
	HeaderAttempt   = "X-Tongxin-Attempt"
	HeaderTimestamp = "X-Tongxin-Timestamp"
	HeaderSignature = "X-Tongxin-Signature"
)

// RunDeliveries runs the delivery worker until ctx ends: every interval,
// and at once when Send has queued deliveries, it delivers what is due.
// A post under way when ctx ends is finished and recorded (at most
// RequestTimeout), so wait for RunDeliveries to return before closing the
// database.
func (s *Service) RunDeliveries(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "webhook deliveries failed", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// DeliverDue makes one attempt at every delivery that is due now and
// returns how many attempts were made. Several workers, in one process or
// in several sharing a database, may run it at once: each attempt is
// claimed by exactly one.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	const op = "notify.DeliverDue"
	made := 0
	for ctx.Err() == nil {
		var batch []claimed
		err := s.db.Write(ctx, func(tx *db.Tx) (err error) {
			batch, err = claimDue(ctx, tx, deliverBatch)
			return err
		})
		if err != nil {
			return made, errs.Wrap(op, err)
		}
		if len(batch) == 0 {
			return made, nil
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		sem := make(chan struct{}, deliverParallel)
		for _, c := range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := s.attempt(ctx, c); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		made += len(batch)
		if first != nil {
			return made, errs.Wrap(op, first)
		}
		if len(batch) < deliverBatch {
			return made, nil
		}
	}
	return made, nil
}

// attempt posts one claimed delivery and records the outcome. The post and
// the record outlive a cancelled ctx: a claimed attempt is always logged.
func (s *Service) attempt(ctx context.Context, c claimed) error {
	ctx = context.WithoutCancel(ctx)
	r := result{at: s.db.Clock.Now().UTC().Truncate(time.Millisecond)}
	req, err := s.request(ctx, c, r.at)
	if err != nil {
		r.err = ErrRequest
		// request's errors are our own texts, which name no address.
		s.log.WarnContext(ctx, "webhook request not built", "webhook", c.hookID, "delivery", c.id, "err", err.Error())
	} else {
		start := time.Now()
		pctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		resp, err := s.client.Do(req.WithContext(pctx))
		if err != nil {
			r.err = transportClass(err)
		} else {
			r.httpStatus, r.err = judge(c.format, resp)
		}
		cancel()
		r.duration = time.Since(start)
	}
	if r.err != "" {
		s.log.WarnContext(ctx, "webhook attempt failed", "webhook", c.hookID, "delivery", c.id, "attempt", c.attempt,
			"status", r.httpStatus, "error_class", r.err)
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error { return recordAttempt(ctx, tx, c, r) })
	if err != nil {
		// The claim expires and the delivery is tried again.
		return fmt.Errorf("record attempt %d of delivery %d: %w", c.attempt, c.id, err)
	}
	return nil
}

// request builds the POST of a claimed delivery at time at.
func (s *Service) request(ctx context.Context, c claimed, at time.Time) (*http.Request, error) {
	if s.box == nil {
		return nil, errors.New("no pii.Box")
	}
	target, err := s.box.Open(c.urlEnc)
	if err != nil {
		return nil, errors.New("地址无法解密（密钥文件是否更换过？）")
	}
	var secret string
	if len(c.secretEnc) > 0 {
		if secret, err = s.box.Open(c.secretEnc); err != nil {
			return nil, errors.New("签名密钥无法解密（密钥文件是否更换过？）")
		}
	}
	p := payloadOf(c, s.baseURL)
	var body []byte
	switch c.format {
	case FormatWeCom:
		body, err = WeComPayload(p)
	case FormatDingTalk:
		body, err = DingTalkPayload(p)
		if err == nil && secret != "" {
			target, err = DingTalkSignURL(target, secret, at)
		}
	default:
		body, err = JSONPayload(p)
	}
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("地址无效")
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Tongxin-Webhook/1")
	h.Set(HeaderEvent, c.event)
	h.Set(HeaderDelivery, strconv.FormatInt(c.id, 10))
	h.Set(HeaderAttempt, strconv.Itoa(c.attempt))
	h.Set(HeaderTimestamp, ts)
	if secret != "" && c.format != FormatDingTalk {
		h.Set(HeaderSignature, Sign(secret, ts, body))
	}
	return req, nil
}

// judge reads an answer: 2xx is success, except that WeCom and DingTalk
// robots answer 200 with a JSON body whose errcode is not 0 on failure.
// The failure is an error class.
func judge(format string, resp *http.Response) (status int, failure string) {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	status = resp.StatusCode
	if status < 200 || status > 299 {
		return status, statusClass(status)
	}
	if format == FormatWeCom || format == FormatDingTalk {
		var r struct {
			Errcode *int   `json:"errcode"`
			Errmsg  string `json:"errmsg"`
		}
		if json.Unmarshal(b, &r) == nil && r.Errcode != nil && *r.Errcode != 0 {
			return status, ErrBadResponse
		}
	}
	return status, ""
}

// ---------------------------------------------------------------------
// Payloads and signatures

// Payload is what a delivery says, whatever its format.
type Payload struct {
	Event      string    `json:"event"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	Link       string    `json:"link"` // absolute when Deps.BaseURL is set
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	SentAt     time.Time `json:"sent_at"` // when the message was sent
}

func payloadOf(c claimed, base string) Payload {
	return Payload{Event: c.event, Title: c.title, Body: c.body, Link: absLink(base, c.link), ObjectType: c.objectType,
		ObjectID: c.objectID, SentAt: c.createdAt}
}

// absLink joins base and a site path.
func absLink(base, link string) string {
	if link == "" || base == "" || !strings.HasPrefix(link, "/") {
		return link
	}
	return strings.TrimRight(base, "/") + link
}

// marshal encodes v as compact JSON without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// JSONPayload is the json format: the Payload itself.
func JSONPayload(p Payload) ([]byte, error) { return marshal(p) }

// robotText makes text typed by people (a ticket's title and description,
// possibly by the public) inert in a robot's markdown: the characters
// markdown and the robots' HTML subset read are replaced by their
// full-width forms, which read the same in Chinese text, and "://" is
// broken so that no bare URL is linked. No link, image, font tag, heading,
// quote, emphasis or code is formed, whatever the robot's renderer honours
// (a backslash escape is not honoured everywhere).
var robotText = strings.NewReplacer(
	"[", "［", "]", "］", "(", "（", ")", "）", "!", "！", "<", "＜", ">", "＞", "*", "＊", "_", "＿",
	"`", "｀", "#", "＃", "~", "～", "|", "｜", "&", "＆", "\\", "＼", "://", "：//",
)

// robotLink makes our own link safe inside "[查看](…)": characters that
// would end the link or start markup are percent-encoded.
var robotLink = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "[", "%5B", "]", "%5D", "\n", "%0A")

// robotPayload is p with its texts made inert for a robot's markdown.
func robotPayload(p Payload) Payload {
	p.Title = robotText.Replace(strings.ReplaceAll(p.Title, "\n", " "))
	p.Body = robotText.Replace(p.Body)
	p.Link = robotLink.Replace(p.Link)
	return p
}

// maxWeComContent keeps a WeCom markdown message under the robot's limit
// of 4096 bytes.
const maxWeComContent = 4000

// WeComPayload is a WeCom group robot's markdown message:
// {"msgtype":"markdown","markdown":{"content":"**title**\nbody\n[查看](link)"}},
// with title and body made inert (robotText).
func WeComPayload(p Payload) ([]byte, error) {
	p = robotPayload(p)
	link := ""
	if p.Link != "" {
		link = "\n[查看](" + p.Link + ")"
	}
	head := "**" + p.Title + "**"
	body := p.Body
	for len(head)+1+len(body)+len(link) > maxWeComContent && body != "" {
		r := []rune(body)
		body = string(r[:len(r)*3/4])
	}
	content := head
	if body != "" {
		content += "\n" + body
	}
	content += link
	return marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": content}})
}

// DingTalkPayload is a DingTalk group robot's markdown message:
// {"msgtype":"markdown","markdown":{"title":"…","text":"#### title\n\nbody\n\n[查看](link)"}},
// with title and body made inert (robotText).
func DingTalkPayload(p Payload) ([]byte, error) {
	p = robotPayload(p)
	text := "#### " + p.Title
	if p.Body != "" {
		text += "\n\n" + strings.ReplaceAll(p.Body, "\n", "\n\n")
	}
	if p.Link != "" {
		text += "\n\n[查看](" + p.Link + ")"
	}
	return marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": p.Title, "text": text}})
}

// Sign is the X-Tongxin-Signature of a body: "sha256=" and the hex
// HMAC-SHA256, keyed with the secret, of the timestamp (Unix seconds, as
// sent in X-Tongxin-Timestamp), a dot and the body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// DingTalkSign is DingTalk's robot signature of a millisecond timestamp:
// base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
func DingTalkSign(secret string, ms int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ms, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// DingTalkSignURL adds DingTalk's timestamp (milliseconds) and sign query
// parameters to a robot's URL.
func DingTalkSignURL(raw, secret string, at time.Time) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("地址无效")
	}
	ms := at.UnixMilli()
	q := u.Query()
	q.Set("timestamp", strconv.FormatInt(ms, 10))
	q.Set("sign", DingTalkSign(secret, ms))
	u.RawQuery = q.Encode()
	return u.String(), nil
}
