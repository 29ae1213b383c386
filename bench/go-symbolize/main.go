// Symbolizes `perf` samples of a stripped Go binary (the Temporal CLI's dev server) with the function table every
// Go binary keeps (.gopclntab), and prints the top functions and packages by self time.
//
//	perf record -F 999 -g -p <server pid> -o server.data -- sleep 10
//	perf script -i server.data -F ip,dso | go run ./bench/go-symbolize <path to temporal>
//
// Only each sample's first frame in the binary counts (self time). See docs/benchmarks.md.
package main

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: perf script -F ip,dso | go-symbolize <go binary>")
		os.Exit(2)
	}
	bin, err := elf.Open(os.Args[1])
	check(err)
	pclntab, err := bin.Section(".gopclntab").Data()
	check(err)
	table, err := gosym.NewTable(nil, gosym.NewLineTable(pclntab, bin.Section(".text").Addr))
	check(err)
	// perf prints addresses relative to the mapping; the executable's first LOAD segment gives its base.
	var base uint64
	for _, p := range bin.Progs {
		if p.Type == elf.PT_LOAD {
			base = p.Vaddr - p.Off
			break
		}
	}

	funcs, pkgs := map[string]int{}, map[string]int{}
	total, inBlock := 0, false
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			inBlock = false
			continue
		}
		if inBlock || !strings.Contains(line, os.Args[1]) {
			inBlock = true
			continue
		}
		inBlock = true
		addr, err := strconv.ParseUint(strings.Fields(line)[0], 16, 64)
		if err != nil {
			continue
		}
		name := "?"
		if f := table.PCToFunc(addr + base); f != nil {
			name = f.Name
		}
		total++
		funcs[name]++
		pkgs[packageOf(name)]++
	}
	fmt.Printf("%d samples in %s\n", total, os.Args[1])
	top(funcs, total, 25)
	fmt.Println("-- by package")
	top(pkgs, total, 25)
}

// packageOf("go.temporal.io/server/service/history.(*handler).Foo") = "go.temporal.io/server/service/history".
func packageOf(name string) string {
	slash := strings.LastIndex(name, "/")
	if dot := strings.Index(name[slash+1:], "."); dot >= 0 {
		return name[:slash+1+dot]
	}
	return name
}

func top(counts map[string]int, total, n int) {
	type entry struct {
		name  string
		count int
	}
	entries := make([]entry, 0, len(counts))
	for k, v := range counts {
		entries = append(entries, entry{k, v})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].count > entries[j].count })
	for i := 0; i < n && i < len(entries); i++ {
		fmt.Printf("%6.1f%% %s\n", 100*float64(entries[i].count)/float64(total), entries[i].name)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
