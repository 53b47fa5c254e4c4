"""The tests' throwaway PostgreSQL cluster: core/db/pg_cluster.py (shared with `make run-cluster`)."""

from core.db.pg_cluster import SERVER_SETTINGS, Cluster, find_bin_dir, start_cluster

__all__ = ["SERVER_SETTINGS", "Cluster", "find_bin_dir", "start_cluster"]
