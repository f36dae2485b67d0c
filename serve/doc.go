// Package serve puts saved models behind HTTP: POST /predict classifies a
// picture, GET /models lists the models, GET /healthz says the server is
// up, GET /metrics counts requests, errors and latencies in the Prometheus
// text format, and GET / is a page to upload or draw a picture, embedded
// in the binary.
//
// The one idea: a request's work is bounded before it is done. The body is
// read through a size limit, a picture's size is checked before it is
// decoded (imageprep), at most Config.MaxInFlight requests decode and
// classify at once (the others wait, then get 503), and the forward passes
// run on the classifier's fixed pool of model replicas. Every refusal is a
// 4xx or 503 with a JSON body {"error": ..., "status": ...}.
//
// Concurrent requests for one model are grouped into micro-batches: one
// worker per model replica takes a waiting request, then every other
// request already queued (up to Config.MaxBatch), and, when
// Config.BatchWindow is positive, waits that long for more. A batch is one
// forward pass, which costs the CNN less per image than passes of one.
package serve
