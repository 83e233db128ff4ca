DROP TABLE applied_batches;
DROP TABLE paste_views_hourly;
