// Package web is pinwatchd's read-only dashboard and its one-file HTML
// report (SPEC §15): the fleet page (/), one page per target
// (/target/NAME), the alerts (/alerts) and the 90-day expiry timeline
// (/expiry). Each page also answers Accept: application/json with the data
// behind it, and the SVG charts are drawn on the server from that same data.
//
// The pages are html/template files and one stylesheet embedded in the
// binary. They need no JavaScript and load nothing from anywhere: no fonts,
// scripts or images from another origin, so they work air-gapped. Text from
// certificates, headers and alerts is untrusted and is only ever escaped by
// html/template, never marked safe.
//
// NewHandler serves the pages from a Store (storage.DB satisfies it) and
// the configured fleet; WriteReport writes the same pages as one
// self-contained file with in-page links.
package web
