-- Wider merges for the by-target table. Its rows are ~12 bytes, and with the default merge_selector_base (5)
-- the engine kept merging a few small inserted parts into the one big part: 3M events inserted 2,000 at a time
-- (serve's usual group) rewrote that part ~86 times. 10: ~26 times, 73 -> 61 us of engine CPU per event, 7
-- parts instead of 2, target pages 16.2 -> 16.9 ms (20 saved 21 us but made 14 parts and 19.3 ms pages;
-- audit_events stays at 5: its part count sets the actor page's cost). Figures: collector/README.md.
ALTER TABLE {{db}}.audit_events_by_target {{on_cluster}} MODIFY SETTING merge_selector_base = 10;
