import wallaroo

def application_setup(args)
    return None
