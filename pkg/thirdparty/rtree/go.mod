module github.com/tidwall/rtree

go 1.22

require github.com/tidwall/geoindex v1.7.0
