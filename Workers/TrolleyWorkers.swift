// The worker loop and one file per job kind (Workers/Kinds).
