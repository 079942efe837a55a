[namespaces]
user = yes
uid_map = 0 100000 65536
gid_map = 0 100000 65536
[cgroup]
cpu_max = 50%
memory_max = 1G
