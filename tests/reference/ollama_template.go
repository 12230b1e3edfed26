// Renders an Ollama TEMPLATE the way Ollama does (Go's text/template over .System and .Messages,
// roles and contents only): the template file is the first argument, the values come as JSON on
// stdin, the prompt goes to stdout. The reference tests compare it, tokenized by llama.cpp, with
// the prompt Tunebench builds.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/template"
)

type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type Values struct {
	System   string    `json:"system"`
	Messages []Message `json:"messages"`
}

func main() {
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var v Values
	if err := json.NewDecoder(os.Stdin).Decode(&v); err != nil {
		fmt.Fprintln(os.Stderr, "values:", err)
		os.Exit(2)
	}
	t, err := template.New("modelfile").Parse(string(text))
	if err != nil {
		fmt.Fprintln(os.Stderr, "parse:", err)
		os.Exit(1)
	}
	if err := t.Execute(os.Stdout, v); err != nil {
		fmt.Fprintln(os.Stderr, "execute:", err)
		os.Exit(1)
	}
}
