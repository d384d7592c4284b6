//go:build ignore

// make.go writes train.csv and test.csv of this example: synthetic data in
// the layout of RouterBench's released CSV, the columns of
// /work/shared/specs/examples/routerbench_sample.csv (the pandas index,
// sample_id, prompt, eval_name, one score column per LLM, <llm>|model_response,
// <llm>|total_cost, oracle_model_to_route_to). That 40-row sample is too small
// to train a router on, so this program makes more rows of the same kind:
//
//   - two benchmarks, eval_name arc-challenge (multiple-choice science
//     questions) and winogrande (fill in the blank between two names), 600
//     rows each, the first 480 of each in train.csv and the last 120 in
//     test.csv, both benchmarks in each file as in the release;
//   - the same three LLMs, scores 0.0 or 1.0;
//   - each prompt is about one topic of one of three areas per benchmark,
//     and each LLM's chance of answering right depends on the area (see
//     areas), so that a router that reads the topic words can beat every
//     single LLM, while a router that picks one LLM per benchmark cannot;
//   - costs are the prompt's tokens (about 4 characters each) times a price
//     per token per LLM, the sample's ratios (beta 3x alpha, gamma 50x);
//   - a few score cells are left empty (missing: drop in data.yaml drops
//     those rows), as in the sample.
//
// It is seeded: the same program writes the same bytes. Run it from this
// directory:
//
//	go run make.go
package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

const (
	seed        = 10
	rowsPerEval = 600
	trainRows   = 480 // of each eval_name; the rest are test rows
	// emptyEvery: about one row in emptyEvery lacks one LLM's score.
	emptyEvery = 150
)

var llms = []string{"org/alpha-7b", "org/beta-13b", "vendor/gamma-xl"}

// pricePerToken is each LLM's dollars per prompt token (the sample's costs:
// 6.8e-06, 2.04e-05 and 0.00034 for a 34-token prompt).
var pricePerToken = []float64{2e-7, 6e-7, 1e-5}

// area is a group of topics on which each LLM has its own accuracy.
type area struct {
	topics []string
	// words fill the answer options, so that they too hint at the area.
	words []string
	// correct is each LLM's chance of a right answer, in the order of llms.
	correct []float64
}

// ARC-Challenge: alpha knows life science, beta physics, gamma earth and
// space science; gamma is the best single LLM but costs 50 times alpha.
var arcAreas = []area{
	{
		topics:  []string{"photosynthesis", "plant cells", "food chains", "pollination", "animal habitats", "inherited traits", "the human heart", "bacteria"},
		words:   []string{"leaves", "roots", "sunlight", "seeds", "oxygen", "cells", "predators", "flowers", "energy from food", "chlorophyll"},
		correct: []float64{0.9, 0.45, 0.7},
	},
	{
		topics:  []string{"a lever", "magnets", "electric circuits", "friction", "sound waves", "a pulley", "heat conduction", "light reflection"},
		words:   []string{"force", "a battery", "copper wire", "a mirror", "speed", "mass", "vibrations", "a switch", "a ramp", "metal"},
		correct: []float64{0.35, 0.9, 0.7},
	},
	{
		topics:  []string{"the water cycle", "volcanoes", "the phases of the moon", "erosion", "weather fronts", "fossils", "the solar system", "earthquakes"},
		words:   []string{"clouds", "rain", "rocks", "the sun", "glaciers", "orbits", "tides", "layers of soil", "lava", "wind"},
		correct: []float64{0.3, 0.4, 0.9},
	},
}

var arcQuestions = []string{
	"Which statement about %s is \"correct\"?",
	"A student is learning about %s. Which observation fits best?",
	"Which of these best explains %s?",
	"What is the main role of %s in this example?",
	"A class records data on %s. Which conclusion is supported?",
}

// Winogrande: alpha knows kitchen scenes, beta sports, gamma travel.
var winoAreas = []area{
	{
		topics: []string{
			"%s borrowed the frying pan from %s because _ was cooking the soup.",
			"%s asked %s to taste the sauce because _ had salted it twice.",
			"%s baked bread for %s because _ had an empty oven.",
			"%s washed the dishes after %s cooked because _ liked a clean kitchen.",
			"%s gave the recipe to %s because _ wanted to bake the cake again.",
		},
		correct: []float64{0.9, 0.45, 0.65},
	},
	{
		topics: []string{
			"%s passed the ball to %s because _ was open near the goal.",
			"%s beat %s in the race because _ had trained all winter.",
			"%s lent running shoes to %s because _ had a spare pair for the match.",
			"%s coached %s at tennis because _ had a stronger serve.",
			"%s cheered for %s at the game because _ scored the winning point.",
		},
		correct: []float64{0.35, 0.9, 0.65},
	},
	{
		topics: []string{
			"%s booked the train tickets for %s because _ knew the timetable.",
			"%s showed %s the map of the city because _ had visited the museum before.",
			"%s packed the suitcase of %s because _ was late for the flight.",
			"%s lent a passport wallet to %s because _ was travelling abroad.",
			"%s met %s at the airport because _ had arrived early from the hotel.",
		},
		correct: []float64{0.3, 0.4, 0.9},
	},
}

var names = []string{"Sam", "Alex", "Maria", "Jordan", "Priya", "Tom", "Lena", "Omar", "Kate", "Ben", "Ana", "Leo"}

var openers = []string{"", "Last week, ", "On Sunday, ", "After school, ", "That evening, ", "In the morning, "}

type row struct {
	id, eval, prompt string
	answer           byte
	right            []bool
	empty            int // the LLM whose score cell is empty; -1: none
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pyList renders a prompt as RouterBench stores it: str() of a one-element
// Python list, newlines escaped.
func pyList(s string) string {
	s = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `'`, `\'`).Replace(s)
	return "['" + s + "']"
}

func arcRow(r *rand.Rand, i int) row {
	a := r.IntN(len(arcAreas))
	ar := arcAreas[a]
	q := fmt.Sprintf(pick(r, arcQuestions), pick(r, ar.topics))
	opts := r.Perm(len(ar.words))[:4]
	var b strings.Builder
	b.WriteString("Answer with the letter.\n\nQuestion: " + q + "\n")
	for k, o := range opts {
		fmt.Fprintf(&b, "%c) %s\n", 'A'+k, ar.words[o])
	}
	b.WriteString("Answer:")
	return scored(r, "arc-challenge", i, b.String(), byte('A'+r.IntN(4)), ar.correct)
}

func winoRow(r *rand.Rand, i int) row {
	a := r.IntN(len(winoAreas))
	ar := winoAreas[a]
	p := r.Perm(len(names))
	n1, n2 := names[p[0]], names[p[1]]
	s := fmt.Sprintf(pick(r, ar.topics), n1, n2)
	if o := pick(r, openers); o != "" {
		s = o + s
	}
	prompt := fmt.Sprintf("Fill in the blank.\n\n%s\nA) %s\nB) %s\nAnswer:", s, n1, n2)
	return scored(r, "winogrande", i, prompt, byte('A'+r.IntN(2)), ar.correct)
}

func scored(r *rand.Rand, eval string, i int, prompt string, answer byte, correct []float64) row {
	rw := row{id: fmt.Sprintf("%s.%d", eval, i), eval: eval, prompt: pyList(prompt), answer: answer, empty: -1}
	for _, p := range correct {
		rw.right = append(rw.right, r.Float64() < p)
	}
	if r.IntN(emptyEvery) == 0 {
		rw.empty = r.IntN(len(llms))
	}
	return rw
}

func header() []string {
	h := []string{"", "sample_id", "prompt", "eval_name"}
	h = append(h, llms...)
	for _, l := range llms {
		h = append(h, l+"|model_response")
	}
	for _, l := range llms {
		h = append(h, l+"|total_cost")
	}
	return append(h, "oracle_model_to_route_to")
}

func record(index int, rw row) []string {
	rec := []string{strconv.Itoa(index), rw.id, rw.prompt, rw.eval}
	for j, ok := range rw.right {
		switch {
		case j == rw.empty:
			rec = append(rec, "")
		case ok:
			rec = append(rec, "1.0")
		default:
			rec = append(rec, "0.0")
		}
	}
	for _, ok := range rw.right {
		reply := rw.answer
		if !ok {
			reply = 'A' + (rw.answer-'A'+1)%2 // a wrong letter, valid for both benchmarks
		}
		rec = append(rec, fmt.Sprintf("['%c']", reply))
	}
	tokens := float64((len(rw.prompt) + 3) / 4)
	for _, price := range pricePerToken {
		rec = append(rec, strconv.FormatFloat(tokens*price, 'g', 4, 64))
	}
	// RouterBench's oracle: the cheapest LLM that is right (the LLMs are in
	// order of price), else the cheapest.
	oracle := llms[0]
	for j, ok := range rw.right {
		if ok && j != rw.empty {
			oracle = llms[j]
			break
		}
	}
	return append(rec, oracle)
}

func write(path string, rows []row, firstIndex int) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header())
	for i, rw := range rows {
		w.Write(record(firstIndex+i, rw))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		log.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d rows\n", path, len(rows))
}

func main() {
	r := rand.New(rand.NewPCG(seed, 0))
	var train, test []row
	for _, gen := range []func(*rand.Rand, int) row{arcRow, winoRow} {
		for i := range rowsPerEval {
			rw := gen(r, i)
			if i < trainRows {
				train = append(train, rw)
			} else {
				test = append(test, rw)
			}
		}
	}
	write("train.csv", train, 0)
	write("test.csv", test, len(train))
}
