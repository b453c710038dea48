exec
