[filesystem]
rw = /srv:/data:exec
