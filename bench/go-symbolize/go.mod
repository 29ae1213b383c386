module durable-agent-team/bench/go-symbolize

go 1.21
