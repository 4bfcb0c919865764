import JukeboxCore
print("jukebox")
