package datasets

import "testing"

// TestAnswerRule pins how an answer is read (see parseAnswer): a number is
// an index; a string is a label, else the text of one choice, else an index.
func TestAnswerRule(t *testing.T) {
	cases := []struct {
		name, file, data string
		want             int
	}{
		{"numeric text matches the choice", "a.jsonl", `{"question":"q","choices":["10","20"],"answer":"20"}`, 1},
		{"a number is an index", "a.jsonl", `{"question":"q","choices":["10","20"],"answer":1}`, 1},
		{"text beats index", "a.jsonl", `{"question":"q","choices":["1","2"],"answer":"1"}`, 0},
		{"number is an index even if it is a choice's text", "a.jsonl", `{"question":"q","choices":["1","2"],"answer":1}`, 1},
		{"digit string that is no choice is an index", "a.jsonl", `{"question":"q","choices":["x","y","z"],"answer":"2"}`, 2},
		{"label beats text", "a.jsonl", `{"question":"q","choices":["B","A"],"answer":"A"}`, 0},
		{"trimmed text", "a.jsonl", `{"question":"q","choices":[" yes ","no"],"answer":"yes"}`, 0},
		{"csv numeric text", "g.csv", "question,c1,c2,answer\nq,10,20,20\n", 1},
		// evalbench's own files: a labels column, and the answer an index
		// even where labels and choices are digits too.
		{"own csv, digit labels", "own.csv", "id,subject,question,choices,answer,labels\nx,,q,\"[\"\"1\"\",\"\"2\"\",\"\"3\"\"]\",1,\"[\"\"1\"\",\"\"2\"\",\"\"3\"\"]\"\n", 1},
		{"own jsonl, letter answer still read", "own.jsonl", `{"question":"q","choices":["a","b"],"answer":"B","labels":["A","B"]}`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{}
			if tc.file == "g.csv" {
				opts.Fields = map[string]string{"choices": "c1,c2"}
			}
			p := writeFile(t, t.TempDir(), tc.file, []byte(tc.data))
			exs, _, err := readAll(t, []string{p}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if exs[0].Answer != tc.want {
				t.Fatalf("answer %d, want %d", exs[0].Answer, tc.want)
			}
		})
	}
}
