//go:build race

package importer

// raceSlowdown stretches wall-time limits of tests under the race
// detector, which runs this code several times slower.
const raceSlowdown = 10
