package data

import "path/filepath"

// TEMPORARY: replaced by the dataset-declaration branch's Builtin.
const BuiltinName = "routerdc-split2"

func Builtin(dir string) (*Collection, error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	var paths []string
	for _, t := range Tasks {
		if t.ClusterTrain != "" {
			paths = append(paths, filepath.Join(dir, filepath.FromSlash(t.ClusterTrain)))
		}
		paths = append(paths, filepath.Join(dir, filepath.FromSlash(t.Test)))
	}
	sets, err := LoadConsistent(paths...)
	if err != nil {
		return nil, err
	}
	c := &Collection{Name: BuiltinName, Builtin: true, LLMs: sets[0].LLMs, Files: Files()}
	i := 0
	for _, t := range Tasks {
		td := TaskData{Name: t.Name, Metric: t.Metric, OOD: t.OOD}
		if t.ClusterTrain != "" {
			td.Train = []*Dataset{sets[i]}
			i++
		}
		td.Test = sets[i]
		i++
		c.Tasks = append(c.Tasks, td)
	}
	return c, nil
}
