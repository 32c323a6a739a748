-- A counter every change to the data the year's figures are computed from moves on, in the
-- same transaction as the change (triggers, so that no write path can forget it). The
-- annual summary is cached per process under the counter's value: a reader that finds the
-- counter where it was reuses the figures, any committed change makes them recompute.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);

CREATE TRIGGER villages_insert_version AFTER INSERT ON villages BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER villages_update_version AFTER UPDATE ON villages BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER villages_delete_version AFTER DELETE ON villages BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER people_insert_version AFTER INSERT ON people BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER people_update_version AFTER UPDATE ON people BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER people_delete_version AFTER DELETE ON people BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER person_categories_insert_version AFTER INSERT ON person_categories BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER person_categories_update_version AFTER UPDATE ON person_categories BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER person_categories_delete_version AFTER DELETE ON person_categories BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sessions_insert_version AFTER INSERT ON sessions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sessions_update_version AFTER UPDATE ON sessions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sessions_delete_version AFTER DELETE ON sessions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER attendance_insert_version AFTER INSERT ON attendance BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER attendance_update_version AFTER UPDATE ON attendance BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER attendance_delete_version AFTER DELETE ON attendance BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER materials_insert_version AFTER INSERT ON materials BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER materials_update_version AFTER UPDATE ON materials BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER materials_delete_version AFTER DELETE ON materials BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER distributions_insert_version AFTER INSERT ON distributions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER distributions_update_version AFTER UPDATE ON distributions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER distributions_delete_version AFTER DELETE ON distributions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER activities_insert_version AFTER INSERT ON activities BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER activities_update_version AFTER UPDATE ON activities BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER activities_delete_version AFTER DELETE ON activities BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER activity_audience_groups_insert_version AFTER INSERT ON activity_audience_groups BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER activity_audience_groups_update_version AFTER UPDATE ON activity_audience_groups BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER activity_audience_groups_delete_version AFTER DELETE ON activity_audience_groups BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER self_study_insert_version AFTER INSERT ON self_study BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER self_study_update_version AFTER UPDATE ON self_study BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER self_study_delete_version AFTER DELETE ON self_study BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER study_requirements_insert_version AFTER INSERT ON study_requirements BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER study_requirements_update_version AFTER UPDATE ON study_requirements BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER study_requirements_delete_version AFTER DELETE ON study_requirements BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
