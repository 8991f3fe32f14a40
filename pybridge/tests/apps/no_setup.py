import wallaroo

def setup(args):
    return None
