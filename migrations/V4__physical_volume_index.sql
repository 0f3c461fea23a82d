-- A physical volume's `index` is stored under the API's own name, so that the row, the
-- request and the views share one attribute struct (`model::tree::attrs::PhysicalVolume`).
ALTER TABLE physical_volumes RENAME COLUMN volume_index TO "index";
ALTER TABLE physical_volumes RENAME CONSTRAINT physical_volumes_volume_index_check TO physical_volumes_index_check;
