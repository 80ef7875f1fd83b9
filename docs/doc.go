// Package docs holds the user guide of syllabus as Markdown files beside this
// one: recipes, running on Flink, the release layout and the dataset card.
package docs
