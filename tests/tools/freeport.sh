# free_port: a port of the loopback the kernel says is free now. Ports
# worked out from a pid fall in the kernel's range for outgoing
# connections, where a live connection may hold one, and a server then
# cannot listen (a CI run lost serve.sh's stray-time check so).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
