-- 0003: the version an orchestration instance was created with (host.json defaultVersion,
-- start_new(version=...) or call_sub_orchestrator(version=...)); NULL: no version.
ALTER TABLE orch_instances ADD COLUMN version TEXT;
