-- The admins' edits of the areas (flows.AreaEdit), one row per area.
CREATE TABLE area_edits (
	area text COLLATE "C" PRIMARY KEY,
	v    int NOT NULL,
	data jsonb NOT NULL
);
