// Command genwords writes pkg/synthtext/words.txt: the fixed word list that
// synthetic message text is drawn from. It keeps the lowercase ASCII words
// of a dictionary (Debian's wamerican, /usr/share/dict/words) of 3 to 9
// letters, less a list of offensive or violent words (the text ends up in
// benchmark logs and server dumps), that every built-in tokenizer (Llama 3, cl100k_base, o200k_base)
// encodes as one token both alone and after a space, sorted, at most 4096.
// Any tokenizer filters the list again when it is used (synthtext.New).
//
//	go run ./scripts/genwords /usr/share/dict/words > pkg/synthtext/words.txt
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
	"github.com/agent-trace/agent-trace/pkg/tokenize/resolve"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genwords DICTIONARY > words.txt")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	var encs []*tokenize.Encoder
	for _, name := range []string{"meta-llama/Llama-3.3-70B-Instruct", "cl100k_base", "o200k_base"} {
		tok, _, err := resolve.Resolve(context.Background(), name, resolve.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		encs = append(encs, tok.NewEncoder())
	}
	seen := map[string]bool{}
	for _, w := range strings.Fields(blocked) {
		seen[w] = true
	}
	var words []string
	sc := bufio.NewScanner(f)
next:
	for sc.Scan() {
		w := sc.Text()
		if len(w) < 3 || len(w) > 9 || seen[w] {
			continue
		}
		for _, c := range []byte(w) {
			if c < 'a' || c > 'z' {
				continue next
			}
		}
		for _, e := range encs {
			if len(e.Encode(w)) != 1 || len(e.Encode(" "+w)) != 1 {
				continue next
			}
		}
		seen[w] = true
		words = append(words, w)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sort.Strings(words)
	if len(words) > 4096 {
		// Keep an even spread over the alphabet.
		kept := make([]string, 0, 4096)
		for i := range 4096 {
			kept = append(kept, words[i*len(words)/4096])
		}
		words = kept
	}
	w := bufio.NewWriter(os.Stdout)
	for _, s := range words {
		fmt.Fprintln(w, s)
	}
	w.Flush()
	fmt.Fprintf(os.Stderr, "%d words\n", len(words))
}

// blocked are words left out of the list.
const blocked = `anal anus ass bastard bitch bomb boob boobs breast cock crap cum damn dead death dick die drug drugs
asses fuck gay gun guns hate hell kill killed killing kills murder naked nazi nude penis piss porn porno racist rape
retard sex sexual sexy shit slave slut suicide terror terrorist tits vagina war weapon whore xxx`
