// Command realcost prints a password hash made by a real (non-test)
// binary, for TestRealBinariesHashAtOWASPCost.
package main

import (
	"fmt"
	"os"

	"tongxin/internal/auth"
)

func main() {
	h, err := auth.HashPassword("正确的马电池钉")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(h)
	fmt.Println(auth.CheckPassword(h, "正确的马电池钉"))
}
