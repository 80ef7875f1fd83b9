// Package skills makes skills first-class data: the skill catalogue (a
// versioned YAML file a person can edit and pin in a recipe), the merging
// of teacher-induced skill names into a catalogue of K skills, the
// validation of tags against a catalogue, a student's missing-skill profile
// (failure rate per skill), and the two uses of that profile from
// Skill-Targeted Adaptive Training (STAT): STAT-Sel sampling weights and
// the STAT-Syn rule that keeps a synthesized problem only when at least two
// of three teacher solutions agree.
//
// Plain Go with no Beam: package transforms wires these into the sftgen
// graph, and pipelines/skillgap calls Profile directly.
//
// Guarantees: a Catalogue that passed Validate has 1 to MaxSkills distinct,
// non-empty names; Merge is deterministic (the same induced names give the
// same catalogue, whatever their order); CheckTags accepts only names of
// the catalogue; Profile ranks skills by failure rate, highest first, ties
// broken by more failures and then by name; Weight is 1 for a row none of
// whose skills the student fails more often than usual, and grows with the
// largest excess failure rate among its skills.
package skills
