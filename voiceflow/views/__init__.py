"""Thin views over voiceflow's modules: one module per group of endpoints."""
