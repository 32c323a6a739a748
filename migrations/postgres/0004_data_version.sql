-- A counter every change to the data the year's figures are computed from moves on, in the
-- same transaction as the change (statement triggers, so that no write path can forget it
-- and a 1,000-row insert moves it once). The annual summary is cached per process under the
-- counter's value: a reader that finds the counter where it was reuses the figures, any
-- committed change makes them recompute.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER villages_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON villages FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER people_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON people FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER person_categories_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON person_categories FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER sessions_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER attendance_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON attendance FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER materials_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON materials FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER distributions_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON distributions FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER activities_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON activities FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER activity_audience_groups_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON activity_audience_groups FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER self_study_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON self_study FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER study_requirements_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON study_requirements FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
