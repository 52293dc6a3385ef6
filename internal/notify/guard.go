package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Where deliveries may go, and what the log says when they fail.
//
// A webhook's address is typed by an officer, but a delivery is a request
// made from inside the HQ's network: pointed at 127.0.0.1, 10.x or the
// cloud's metadata service it would reach what the public internet cannot.
// So unless the operator allows private addresses (serve
// --webhook-allow-private), every connection's resolved address is checked
// when it is dialed (DNS may answer differently from when the hook was
// saved), and redirects are never followed. Saving refuses obvious private
// literals early, with a clear message.

// ErrorClass values: what the delivery log keeps of a failed attempt,
// instead of the error's text (which names hosts and addresses).
const (
	ErrTimeout        = "timeout"         // no answer within RequestTimeout
	ErrDNS            = "dns"             // the host name did not resolve
	ErrRefused        = "refused"         // the connection was refused
	ErrBlockedAddress = "blocked_address" // the address is private, loopback, link-local…
	ErrTLS            = "tls"             // TLS handshake or certificate
	ErrNetwork        = "network"         // any other connection failure
	ErrRedirect       = "redirect"        // answered 3xx (never followed)
	ErrHTTP4xx        = "http_4xx"
	ErrHTTP5xx        = "http_5xx"
	ErrBadResponse    = "bad_response" // 2xx, but a robot's errcode is not 0
	ErrRequest        = "request"      // the request could not be built (key file changed?)
)

// ErrorClasses lists the classes in the order the docs give them.
var ErrorClasses = []string{ErrTimeout, ErrDNS, ErrRefused, ErrBlockedAddress, ErrTLS, ErrNetwork, ErrRedirect,
	ErrHTTP4xx, ErrHTTP5xx, ErrBadResponse, ErrRequest}

// errorTexts are the classes in Chinese, for the API's *_text fields.
var errorTexts = map[string]string{
	ErrTimeout:        "超时：规定时间内没有应答",
	ErrDNS:            "域名无法解析",
	ErrRefused:        "连接被拒绝",
	ErrBlockedAddress: "地址指向内网或本机，已拦截",
	ErrTLS:            "TLS/证书错误",
	ErrNetwork:        "网络错误",
	ErrRedirect:       "对方要求重定向（不跟随）",
	ErrHTTP4xx:        "对方返回 4xx 错误",
	ErrHTTP5xx:        "对方返回 5xx 错误",
	ErrBadResponse:    "对方应答表示失败",
	ErrRequest:        "无法构造请求",
}

// ErrorText is a class in Chinese ("" for "").
func ErrorText(class string) string { return errorTexts[class] }

// errorClass reads a stored error: a class as such; a text logged before
// classes existed becomes its class (and is never shown).
func errorClass(stored string, httpStatus int) string {
	if stored == "" {
		return ""
	}
	if _, ok := errorTexts[stored]; ok {
		return stored
	}
	switch {
	case httpStatus != 0:
		return statusClass(httpStatus)
	case strings.HasPrefix(stored, "超时"):
		return ErrTimeout
	case strings.HasPrefix(stored, "无法构造请求"):
		return ErrRequest
	}
	return ErrNetwork
}

// statusClass is the class of a non-2xx answer, or of a 2xx that failed.
func statusClass(status int) string {
	switch {
	case status >= 500:
		return ErrHTTP5xx
	case status >= 400:
		return ErrHTTP4xx
	case status >= 300:
		return ErrRedirect
	}
	return ErrBadResponse
}

// errBlocked is what the dialer's check answers for a refused address.
var errBlocked = errors.New("address not allowed for webhooks")

// transportClass is the class of a post that got no answer.
func transportClass(err error) string {
	var ne net.Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, errBlocked):
		return ErrBlockedAddress
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return ErrTimeout
	case errors.As(err, &dnsErr):
		return ErrDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert), errors.As(err, &unknownCA),
		errors.As(err, &hostErr), errors.As(err, &invalid), strings.Contains(err.Error(), "tls:"):
		return ErrTLS
	}
	return ErrNetwork
}

// Prefixes that are not public besides what netip's predicates cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// nat64 and 6to4 carry an IPv4 address inside an IPv6 one.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// PublicAddr reports whether deliveries may go to ip without
// --webhook-allow-private: not loopback, private (RFC 1918, fc00::/7),
// link-local (169.254/16 with the cloud metadata service, fe80::/10),
// unspecified, multicast, CGNAT or reserved, nor an IPv4-mapped,
// IPv4-compatible, NAT64 or 6to4 form of one.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	if ip.Is6() {
		b := ip.As16()
		var v4 [4]byte
		switch {
		case nat64.Contains(ip):
			copy(v4[:], b[12:])
			return PublicAddr(netip.AddrFrom4(v4))
		case sixTo4.Contains(ip):
			copy(v4[:], b[2:6])
			return PublicAddr(netip.AddrFrom4(v4))
		case b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7]|b[8]|b[9]|b[10]|b[11] == 0:
			// IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks).
			copy(v4[:], b[12:])
			return PublicAddr(netip.AddrFrom4(v4))
		}
	}
	return true
}

// privateHost reports whether a URL's host is obviously not public: an IP
// literal that is not, or localhost. Names that resolve to private
// addresses are caught when dialed.
func privateHost(u *url.URL) bool {
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && !PublicAddr(ip)
}

// transport posts deliveries: no proxy (the address checked must be the
// one connected to), and a dialer that checks every resolved address
// unless the service allows private ones.
func (s *Service) transport() *http.Transport {
	d := &net.Dialer{
		Timeout: RequestTimeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			if s.allowPrivate {
				return nil
			}
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return errBlocked
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !PublicAddr(ip) {
				return errBlocked
			}
			return nil
		},
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   RequestTimeout,
		ResponseHeaderTimeout: RequestTimeout,
	}
}
