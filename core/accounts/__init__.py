"""Accounts: users and their passwords (`users`, `passwords`), signed-in sessions (`sessions`) and the
permission table every writing function of core checks (`permissions`)."""
