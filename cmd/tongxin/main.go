// Command tongxin is the working platform of a city's epidemic-control
// headquarters. Everything happens in app.Run, so that tests run the
// program exactly as users do.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai even on machines without a zone database

	"tongxin/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tongxin:", app.Message(err))
		os.Exit(app.ExitCode(err))
	}
}
