"""Running a recipe: the driver (`driver`: options, phases, conservation), datatrove executors (`executors`,
`ray_executor`), live progress (`progress`) and re-running stages of an earlier release (`restage`)."""
