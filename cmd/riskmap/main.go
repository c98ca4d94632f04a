// Command riskmap is the urban safety risk register and four-colour risk map server.
//
//	riskmap serve    [--listen ADDR] [--db DSN] [--config FILE] [--demo]
//	riskmap migrate  [--db DSN]
//	riskmap seed     [--db DSN] (--demo | --synthetic N [--seed S])
//	riskmap user add [--db DSN] --name NAME --role ROLE [--categories c1,c2] [--regions r1,r2] [--password-stdin]
//	                 [--display-name 姓名] [--organisation 单位] [--phone PHONE]
//	riskmap regrade  [--db DSN] [--config FILE]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, errHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "riskmap:", err)
		os.Exit(2)
	}
	err := m.Run(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "riskmap:", oneLine(err))
		os.Exit(1)
	}
}
