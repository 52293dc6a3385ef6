package pii

import "testing"

func TestMasking(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"id 18", MaskID, "430202199001011234", "430202********1234"},
		{"id X", MaskID, "11010519491231002X", "110105********002X"},
		{"id 15", MaskID, "430202900101123", "430202*****1123"},
		{"id short", MaskID, "4302021990", "**********"},
		{"id empty", MaskID, "", ""},

		{"phone", MaskPhone, "13800138000", "138****8000"},
		{"phone longer", MaskPhone, "0731-88888888", "073******8888"},
		{"phone short", MaskPhone, "1380013", "*******"},
		{"phone empty", MaskPhone, "", ""},

		{"name 1", MaskName, "张", "*"},
		{"name 2", MaskName, "张三", "张*"},
		{"name 3", MaskName, "李小龙", "李*龙"},
		{"name 4", MaskName, "欧阳娜娜", "欧**娜"},
		{"name latin", MaskName, "Alice", "A***e"},
		{"name empty", MaskName, "", ""},

		{"plate", MaskPlate, "湘B12345", "湘B***45"},
		{"plate NEV", MaskPlate, "湘BD12345", "湘B****45"},
		{"plate short", MaskPlate, "湘B12", "****"},
		{"plate empty", MaskPlate, "", ""},

		{"last4 id", Last4, "11010519491231002X", "002X"},
		{"last4 plate", Last4, "湘B12345", "2345"},
		{"last4 runes", Last4, "同心抗疫情", "心抗疫情"},
		{"last4 exact", Last4, "1234", "1234"},
		{"last4 short", Last4, "张三", "张三"},
		{"last4 empty", Last4, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in); got != tt.want {
				t.Errorf("(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
