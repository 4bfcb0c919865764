import JukeboxCore
print("jukebox-studio")
