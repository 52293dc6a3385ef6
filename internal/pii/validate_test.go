package pii

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// idWithCheck completes 17 digits with the GB 11643 check character,
// computed from the definition (weights 2^(17-i) mod 11, check value
// (12 - sum mod 11) mod 11, 10 written X) rather than from the tables of
// the code under test.
func idWithCheck(t *testing.T, first17 string) string {
	t.Helper()
	if len(first17) != 17 {
		t.Fatalf("idWithCheck: %q is not 17 digits", first17)
	}
	sum := 0
	for i := range 17 {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	v := (12 - sum%11) % 11
	c := "X"
	if v < 10 {
		c = string(rune('0' + v))
	}
	return first17 + c
}

// wrongLast replaces the last character of s with a different one of the
// same kind, so that only its check character is wrong.
func wrongLast(s string, alphabet string) string {
	last := s[len(s)-1]
	for i := range len(alphabet) {
		if alphabet[i] != last {
			return s[:len(s)-1] + alphabet[i:i+1]
		}
	}
	panic("no alternative")
}

// creditAlphabet is built here independently: digits and capital letters
// without I, O, S, V and Z.
func creditAlphabet() string {
	var sb strings.Builder
	for c := '0'; c <= '9'; c++ {
		sb.WriteRune(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		if !strings.ContainsRune("IOSVZ", c) {
			sb.WriteRune(c)
		}
	}
	return sb.String()
}

// creditWithCheck completes 17 characters with the GB 32100 check
// character: weights 3^i mod 31, check value (31 - sum mod 31) mod 31.
func creditWithCheck(t *testing.T, first17 string) string {
	t.Helper()
	alpha := creditAlphabet()
	sum, w := 0, 1
	for i := range 17 {
		v := strings.IndexByte(alpha, first17[i])
		if v < 0 {
			t.Fatalf("creditWithCheck: bad character in %q", first17)
		}
		sum += v * w
		w = w * 3 % 31
	}
	return first17 + string(alpha[(31-sum%31)%31])
}

type normCase struct {
	name    string
	in      string
	want    string // normalized value; "" means an error is expected
	wantMsg string // substring of the error message, if an error is expected
}

func runNormCases(t *testing.T, fn func(string) (string, error), tests []normCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fn(tt.in)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("(%q) = %q, nil; want error", tt.in, got)
			}
			if got != "" {
				t.Errorf("(%q) returned %q together with an error", tt.in, got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			msg := err.Error()
			if !utf8.ValidString(msg) || !strings.ContainsRune(msg, '号') && !strings.ContainsRune(msg, '码') {
				t.Errorf("error %q is not a Chinese user message", msg)
			}
			if tt.wantMsg != "" && !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q does not mention %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestNormalizeResidentID(t *testing.T) {
	const known = "11010519491231002X" // public sample from GB 11643
	generated := idWithCheck(t, "43020219900101123")
	leap := idWithCheck(t, "43020220000229123")
	if known != idWithCheck(t, known[:17]) {
		t.Fatalf("independent check disagrees with the public sample %s", known)
	}
	tests := []normCase{
		{"public sample", known, known, ""},
		{"lower-case x", "11010519491231002x", known, ""},
		{"spaces", " 110105 19491231 002X ", known, ""},
		{"full-width", "１１０１０５１９４９１２３１００２ｘ", known, ""},
		{"generated", generated, generated, ""},
		{"leap day 2000", leap, leap, ""},
		{"year 1900", idWithCheck(t, "11010519000101001"), idWithCheck(t, "11010519000101001"), ""},

		{"empty", "", "", "请填写"},
		{"blank", "   ", "", "请填写"},
		{"wrong check digit", "110105194912310021", "", "校验位"},
		{"wrong check X", wrongLast(generated, "X0123456789"), "", "校验位"},
		{"17 chars", known[:17], "", "18位"},
		{"19 chars", known + "1", "", "18位"},
		{"15-digit old id", "110105491231002", "", "18位"},
		{"letter inside", "11010519491231A02X", "", "数字"},
		{"bad last char", "11010519491231002Y", "", "末位"},
		{"region starts with 0", idWithCheck(t, "01010519491231002"), "", "地区"},
		{"date 19490231", idWithCheck(t, "11010519490231002"), "", "出生日期"},
		{"date 19491301", idWithCheck(t, "11010519491301002"), "", "出生日期"},
		{"date 19490100", idWithCheck(t, "11010519490100002"), "", "出生日期"},
		{"date 19000229 not leap", idWithCheck(t, "11010519000229002"), "", "出生日期"},
		{"date 20230229 not leap", idWithCheck(t, "11010520230229002"), "", "出生日期"},
		{"year 1899", idWithCheck(t, "11010518991231002"), "", "出生日期"},
		{"date 19490431", idWithCheck(t, "11010519490431002"), "", "出生日期"},
	}
	runNormCases(t, NormalizeResidentID, tests)
}

func TestNormalizePhone(t *testing.T) {
	tests := []normCase{
		{"plain", "13800138000", "13800138000", ""},
		{"spaces", "138 0013 8000", "13800138000", ""},
		{"dashes", "138-0013-8000", "13800138000", ""},
		{"+86", "+86 138 0013 8000", "13800138000", ""},
		{"+86-", "+86-13800138000", "13800138000", ""},
		{"86", "8613800138000", "13800138000", ""},
		{"0086", "0086 13800138000", "13800138000", ""},
		{"full-width", "１３８００１３８０００", "13800138000", ""},
		{"199", "19912345678", "19912345678", ""},
		{"starting 86 without prefix", "18612345678", "18612345678", ""},

		{"empty", "", "", "请填写"},
		{"10 digits", "1380013800", "", "11位"},
		{"12 digits", "138001380001", "", "11位"},
		{"letter", "1380013800a", "", "11位"},
		{"second digit 2", "12800138000", "", "号段"},
		{"second digit 0", "10086000000", "", "号段"},
		{"not starting with 1", "23800138000", "", "号段"},
		{"landline", "0731-8888888", "", "号段"},
		{"landline long", "0731-88888888", "", "11位"},
		{"other country code", "+85213800138000", "", "11位"},
		{"prefix without number", "+86", "", "11位"},
	}
	runNormCases(t, NormalizePhone, tests)
}

func TestNormalizeCreditCode(t *testing.T) {
	const known = "91350100M000100Y43" // public sample
	if known != creditWithCheck(t, known[:17]) {
		t.Fatalf("independent check disagrees with the public sample %s", known)
	}
	generated := creditWithCheck(t, "91430100MA4L12345")
	// Find a code whose check value is 31 mod 31, i.e. the character '0'.
	zeroCheck := ""
	for _, c := range creditAlphabet() {
		code := creditWithCheck(t, "9143010000000000"+string(c))
		if code[17] == '0' {
			zeroCheck = code
			break
		}
	}
	if zeroCheck == "" {
		t.Fatal("no code with check character 0 found")
	}
	tests := []normCase{
		{"public sample", known, known, ""},
		{"lower case", strings.ToLower(known), known, ""},
		{"spaces", " 9135 0100 M000 100Y 43 ", known, ""},
		{"generated", generated, generated, ""},
		{"check character 0", zeroCheck, zeroCheck, ""},

		{"empty", "", "", "请填写"},
		{"wrong check", wrongLast(known, creditAlphabet()), "", "校验位"},
		{"wrong check generated", wrongLast(generated, creditAlphabet()), "", "校验位"},
		{"17 chars", known[:17], "", "18位"},
		{"19 chars", known + "0", "", "18位"},
		{"letter I", "91350100M000100I43", "", "无效字符"},
		{"letter O", "91350100M000100O43", "", "无效字符"},
		{"letter Z", "91350100M000100Z43", "", "无效字符"},
		{"letter S", "91350100M000100S43", "", "无效字符"},
		{"letter V", "91350100M000100V43", "", "无效字符"},
		{"punctuation", "91350100M000100-43", "", "无效字符"},
		{"region with letter", creditWithCheck(t, "913A0100M000100Y4"), "", "行政区划"},
		{"chinese", "统一社会信用代码统一社会信用代码统一", "", "18位"},
	}
	runNormCases(t, NormalizeCreditCode, tests)
}

func TestNormalizePlate(t *testing.T) {
	tests := []normCase{
		{"ordinary", "湘B12345", "湘B12345", ""},
		{"ordinary with letters", "京AF0236", "京AF0236", ""},
		{"lower case and dot", "湘b·12345", "湘B12345", ""},
		{"spaces", " 粤 B 12345 ", "粤B12345", ""},
		{"dash", "沪A-12345", "沪A12345", ""},
		{"full-width", "湘Ｂ１２３４５", "湘B12345", ""},
		{"NEV small", "湘BD12345", "湘BD12345", ""},
		{"NEV small F", "湘BF12345", "湘BF12345", ""},
		{"NEV small letter", "湘BDA1234", "湘BDA1234", ""},
		{"NEV large", "湘B12345D", "湘B12345D", ""},
		{"NEV large F", "湘B12345F", "湘B12345F", ""},
		{"trailer", "湘A1234挂", "湘A1234挂", ""},
		{"learner", "湘A1234学", "湘A1234学", ""},
		{"police", "湘A1234警", "湘A1234警", ""},
		{"Hong Kong", "粤Z1234港", "粤Z1234港", ""},
		{"Macao", "粤Z1234澳", "粤Z1234澳", ""},
		{"every province", "琼A12345", "琼A12345", ""},

		{"empty", "", "", "请填写"},
		{"too short", "湘B1234", "", "位数"},
		{"too long", "湘B1234567", "", "位数"},
		{"only province", "湘", "", "发牌机关"},
		{"authority I", "湘I12345", "", "发牌机关"},
		{"authority O", "湘O12345", "", "发牌机关"},
		{"authority digit", "湘112345", "", "发牌机关"},
		{"no province", "XX12345", "", "省份"},
		{"not a province", "港B12345", "", "省份"},
		{"serial with I", "湘B1234I", "", "格式"},
		{"serial with O", "湘BO1234", "", "格式"},
		{"suffix not last", "湘B123挂4", "", "格式"},
		{"unknown suffix", "湘B1234使", "", "格式"},
		{"NEV mark not D or F", "湘BA12345", "", "格式"},
		{"NEV small letter after digits", "湘BD1234A", "", "格式"},
		{"NEV small two letters", "湘BDAB123", "", "格式"},
		{"NEV large letter inside", "湘B1234AD", "", "格式"},
		{"six digits", "湘B123456", "", "格式"},
		{"NEV with suffix", "湘BD1234挂", "", "格式"},
	}
	runNormCases(t, NormalizePlate, tests)
}

func TestNormalizeIdempotent(t *testing.T) {
	fns := map[string]func(string) (string, error){
		"id":     NormalizeResidentID,
		"phone":  NormalizePhone,
		"credit": NormalizeCreditCode,
		"plate":  NormalizePlate,
	}
	inputs := []string{"11010519491231002x", "+86 138-0013-8000", "91350100m000100y43", "湘b·d12345"}
	for name, fn := range fns {
		for _, in := range inputs {
			once, err := fn(in)
			if err != nil {
				continue
			}
			twice, err := fn(once)
			if err != nil || twice != once {
				t.Errorf("%s: normalizing %q twice gives %q, %v; want %q", name, in, twice, err, once)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "13800138000", "+8613800138000",
		"91350100M000100Y43", "湘B12345", "湘BD12345", "湘B12345D", "", "湘", "８６"} {
		f.Add(s)
	}
	fns := []func(string) (string, error){NormalizeResidentID, NormalizePhone, NormalizeCreditCode, NormalizePlate}
	f.Fuzz(func(t *testing.T, s string) {
		for i, fn := range fns {
			once, err := fn(s)
			if err != nil {
				if !errors.Is(err, ErrInvalid) || once != "" {
					t.Fatalf("fn %d(%q) = %q, %v", i, s, once, err)
				}
				continue
			}
			if twice, err := fn(once); err != nil || twice != once {
				t.Fatalf("fn %d not idempotent on %q: %q then %q, %v", i, s, once, twice, err)
			}
		}
	})
}
