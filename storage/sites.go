package storage

import (
	"encoding/json"

	"github.com/pinwatchd/pinwatchd"
)

// EncodeSites returns the JSON of an alert's addresses and sites columns.
// An alert given addresses but no sites (written by code that knows no
// vantage) gets one site without a vantage per address; otherwise the
// addresses are those of its sites.
func EncodeSites(a *pinwatchd.Alert) (addresses, sites []byte, err error) {
	ss := a.Sites
	addrs := pinwatchd.SiteAddresses(ss)
	if len(ss) == 0 {
		ss = []pinwatchd.Site{}
		addrs = a.Addresses
		if addrs == nil {
			addrs = []string{}
		}
		for _, addr := range addrs {
			ss = append(ss, pinwatchd.Site{Address: addr})
		}
	}
	if addresses, err = json.Marshal(addrs); err != nil {
		return nil, nil, err
	}
	sites, err = json.Marshal(ss)
	return addresses, sites, err
}
